"""Constants shared by the demo-data commands."""

DEMO_DOMAIN = "demo.isocert.example"
DEMO_PASSWORD = "isocert-demo-2026"
# Fixed so the demo staff's two-factor codes can be printed (`isocert demo-totp`).
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
