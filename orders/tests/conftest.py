from agents.tests.conftest import make_seller, seller  # noqa: F401  (fixtures: a logged-in seller with an agent)
from whatsapp.tests.shop import shop  # noqa: F401  (a fixture: a seller with a number and a customer)
