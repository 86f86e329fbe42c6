from whatsapp.tests.shop import shop  # noqa: F401  (a fixture: a seller with a number and a customer)
