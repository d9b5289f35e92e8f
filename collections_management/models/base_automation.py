from odoo import api, models

from odoo.addons.base_automation.models.base_automation import WRITE_TRIGGERS


class BaseAutomation(models.Model):
    _inherit = "base.automation"

    @api.model
    def _collection_run_write_rules(self, records, fnames, write):
        """Call ``write()``, which changes the fields ``fnames`` of ``records`` without the ORM's
        ``write`` (one SQL UPDATE for a whole batch), then run the automation rules an ORM write
        of these fields would have run: same preconditions, same old values, same postconditions
        (see ``_register_hook`` of base_automation). ``write`` must invalidate what it changed.
        Costs one search for the rules when there is none."""
        automations = self._get_actions(records, WRITE_TRIGGERS)
        records = records.filtered("id")
        if not (automations and records):
            write()
            return
        records = records.with_env(automations.env)
        pre = {automation: automation._filter_pre(records) for automation in automations}
        old_values = {record.id: {fname: record[fname] for fname in fnames} for record in records}
        write()
        for automation in automations.with_context(old_values=old_values):
            matched, domain_post = automation._filter_post_export_domain(pre[automation], feedback=True)
            automation._process(matched, domain_post=domain_post)
