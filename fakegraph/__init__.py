"""A local stand-in for Meta's Graph API, for the tests, the demo (`run_fake_graph`) and the customer sandbox.

It imports nothing of the product: it speaks Meta's wire format only, so it tests the app from outside.
"""
