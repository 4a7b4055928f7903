"""Signals accounts sends; the apps above it (families) listen."""

from django.dispatch import Signal

# A new account confirmed its address and is linked to no family file
# (no activation key at sign-up): `user`. Sent inside confirm_email's transaction.
unlinked_account_confirmed = Signal()
