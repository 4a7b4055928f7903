"""DEMO ONLY: a local payment-provider simulator (`/simulateur-paiement/`).

It plays the banks' side of each provider a demo town is configured with, in
the provider's real protocol, so that OUR adapter (modules/billing/payments/,
through eopayment) runs end to end without the Internet:

- PayZen / Systempay: the family's browser POSTs the signed `vads_*` form
  here; the page checks its HMAC-SHA-256 signature, then on « Payer » sends the
  signed server-to-server notification (IPN) to `vads_url_check` and sends the
  browser back to `vads_url_return`;
- Paybox: the `PBX_*` form (checked with its PBX_HMAC), then the answer signed
  with RSA (SHA1withRSA) sent to `PBX_REPONDRE_A` and to the browser's return;
- PayFiP: its SOAP service (the published WSDL, address turned here) creates
  and reports operations; its page, on « Payer », POSTs `idop` to `urlnotif`
  and sends the browser back to `urlredirect` (paysim/payfip.py).

Keys are demo keys (paysim/keys.py): the demo sets the towns' secret variables
to them (`manage.py rundemo`), and the billing gateway verifies Paybox answers
against the demo public key only while the simulator is on. Every page says
« démonstration, aucun paiement réel ».

Off unless settings.PAYMENT_SIMULATOR (dev and test only): production settings
refuse it (portal/settings/prod.py), its URLs are then not even routed.
"""
