"""The throttles of accounts (one per scope; counters live in the town's cache)."""

from accounts import rules
from accounts.throttling import Throttle

login_account_throttle = Throttle("login-account", rules.LOGIN_PER_ACCOUNT)
login_ip_throttle = Throttle("login-ip", rules.LOGIN_PER_IP)
key_ip_throttle = Throttle("key-ip", rules.KEY_PER_IP)
key_prefix_throttle = Throttle("key-prefix", rules.KEY_PER_PREFIX)
mail_address_throttle = Throttle("mail-address", rules.MAIL_PER_ADDRESS)
mail_ip_throttle = Throttle("mail-ip", rules.MAIL_PER_IP)
