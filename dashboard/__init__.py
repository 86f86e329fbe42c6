"""The seller's pages: home, inbox and conversation, customers, orders, reports, quick replies and settings.

The top layer: it reads conversations (agents' tables, whatsapp) and orders together; nothing imports it.
"""
