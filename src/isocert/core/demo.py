"""Constants of the demo data: its e-mail domain, password and staff TOTP secret.

The portal's ``seed-demo`` and ``demo-totp`` commands use them, and so do the apps' own
demo modules (``certification.demo``, ``energy.demo``); they live on the ground floor so
every app can read them.
"""

DEMO_DOMAIN = "demo.isocert.example"
DEMO_PASSWORD = "isocert-demo-2026"
# Fixed so the demo staff's two-factor codes can be printed (`isocert demo-totp`).
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
