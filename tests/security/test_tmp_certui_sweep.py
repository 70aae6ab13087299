# Temporary (certui helper): the HTML sweep with the signing key page mapped; deleted after the run.
import test_tenant_sweep as sweep
from test_tenant_sweep import alice_world, test_charlie_gets_404_on_every_page_of_alices  # noqa: F401

sweep.HTML_PUBLIC.add("signing_key")
