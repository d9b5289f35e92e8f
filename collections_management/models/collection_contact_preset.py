from odoo import fields, models


class CollectionContactPreset(models.Model):
    """The contact rules a country's law or practice sets for debt collection: hours, days,
    public holidays and a weekly cap. Shipped as data; a policy copies them (``Apply``)."""

    _name = "collection.contact.preset"
    _description = "Collection Contact Rules Preset"
    _inherit = ["collection.contact.window.mixin"]
    _order = "country_id, name"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    country_id = fields.Many2one("res.country", required=True)
    description = fields.Text(translate=True, help="The rules and the law or practice they come from.")
    # The contact window comes from the mixin; a preset closes at 19:00 unless it says otherwise.
    contact_hour_to = fields.Float(default=19.0)
    contact_weekend_hour_to = fields.Float(default=19.0)
    max_contacts_per_week = fields.Integer(help="Maximum reminders to a customer in any 7 days; 0: the policy's own.")
    calendar_id = fields.Many2one(
        "resource.calendar",
        string="Public Holidays",
        help="Calendar holding the country's public holidays (time off of the whole calendar).",
    )

    def _collection_policy_values(self):
        """What a policy copies from this preset: its contact window (the weekly cap only when the
        preset sets one), its public holidays, and the preset itself."""
        self.ensure_one()
        values = self._collection_contact_window_values()
        if not self.max_contacts_per_week:
            del values["max_contacts_per_week"]
        values["contact_calendar_id"] = self.calendar_id.id
        values["contact_preset_id"] = self.id
        return values
