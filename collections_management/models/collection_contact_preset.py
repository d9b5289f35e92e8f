from odoo import fields, models


class CollectionContactPreset(models.Model):
    """The contact rules a country's law or practice sets for debt collection: hours, days,
    public holidays and a weekly cap. Shipped as data; a policy copies them (``Apply``)."""

    _name = "collection.contact.preset"
    _description = "Collection Contact Rules Preset"
    _order = "country_id, name"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    country_id = fields.Many2one("res.country", required=True)
    description = fields.Text(translate=True, help="The rules and the law or practice they come from.")
    contact_hour_from = fields.Float(string="Contact From", default=8.0)
    contact_hour_to = fields.Float(string="Contact Until", default=19.0)
    contact_weekend_hours = fields.Boolean(string="Own Weekend Hours")
    contact_weekend_hour_from = fields.Float(string="Weekend Contact From", default=8.0)
    contact_weekend_hour_to = fields.Float(string="Weekend Contact Until", default=19.0)
    contact_monday = fields.Boolean(string="Monday", default=True)
    contact_tuesday = fields.Boolean(string="Tuesday", default=True)
    contact_wednesday = fields.Boolean(string="Wednesday", default=True)
    contact_thursday = fields.Boolean(string="Thursday", default=True)
    contact_friday = fields.Boolean(string="Friday", default=True)
    contact_saturday = fields.Boolean(string="Saturday")
    contact_sunday = fields.Boolean(string="Sunday")
    max_contacts_per_week = fields.Integer(
        string="Contacts per 7 Days", help="Maximum reminders to a customer in any 7 days; 0: the policy's own."
    )
    calendar_id = fields.Many2one(
        "resource.calendar",
        string="Public Holidays",
        help="Calendar holding the country's public holidays (time off of the whole calendar).",
    )

    _check_contact_hours = models.Constraint(
        "CHECK(contact_hour_from >= 0 AND contact_hour_to <= 24 AND contact_hour_from < contact_hour_to "
        "AND contact_weekend_hour_from >= 0 AND contact_weekend_hour_to <= 24 "
        "AND contact_weekend_hour_from < contact_weekend_hour_to)",
        "Contact hours must be between 0 and 24, the start before the end.",
    )

    def _collection_policy_values(self):
        """What a policy copies from this preset."""
        self.ensure_one()
        values = {
            name: self[name]
            for name in (
                "contact_hour_from",
                "contact_hour_to",
                "contact_weekend_hours",
                "contact_weekend_hour_from",
                "contact_weekend_hour_to",
                *self.env["collection.policy"]._collection_weekday_fields(),
            )
        }
        values["contact_calendar_id"] = self.calendar_id.id
        values["contact_preset_id"] = self.id
        if self.max_contacts_per_week:
            values["max_contacts_per_week"] = self.max_contacts_per_week
        return values
