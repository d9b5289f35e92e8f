"""Give the shipped case stages their role (their data is ``noupdate``)."""

from odoo import SUPERUSER_ID, api

ROLES = {
    "collection_case_stage_new": "new",
    "collection_case_stage_contacted": "contacted",
    "collection_case_stage_promise": "promise",
    "collection_case_stage_broken_promise": "broken_promise",
    "collection_case_stage_dispute": "dispute",
    "collection_case_stage_escalated": "escalated",
    "collection_case_stage_closed": "closed",
}


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    for xmlid, role in ROLES.items():
        stage = env.ref(f"collections_management.{xmlid}", raise_if_not_found=False)
        if stage and not stage.role:
            stage.role = role
