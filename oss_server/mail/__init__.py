"""Emails: the outbox, the shopper status email, and the sender that delivers them."""
