from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

WEEKDAY_FIELDS = (
    "contact_monday",
    "contact_tuesday",
    "contact_wednesday",
    "contact_thursday",
    "contact_friday",
    "contact_saturday",
    "contact_sunday",
)


class CollectionContactWindowMixin(models.AbstractModel):
    """When customers may be contacted: the hours (weekdays, and weekends when they have their
    own), the days of the week and the weekly cap. Declared once for the policy, which the engine
    reads, and the country preset a policy copies them from (``_collection_contact_window_values``).
    A model keeps its own default or help by redefining only that attribute."""

    _name = "collection.contact.window.mixin"
    _description = "Collections: contact hours and days"

    contact_hour_from = fields.Float(string="Contact From", default=8.0)
    contact_hour_to = fields.Float(string="Contact Until", default=20.0)
    contact_weekend_hours = fields.Boolean(string="Own Weekend Hours")
    contact_weekend_hour_from = fields.Float(string="Weekend Contact From", default=8.0)
    contact_weekend_hour_to = fields.Float(string="Weekend Contact Until", default=20.0)
    contact_monday = fields.Boolean(string="Monday", default=True)
    contact_tuesday = fields.Boolean(string="Tuesday", default=True)
    contact_wednesday = fields.Boolean(string="Wednesday", default=True)
    contact_thursday = fields.Boolean(string="Thursday", default=True)
    contact_friday = fields.Boolean(string="Friday", default=True)
    contact_saturday = fields.Boolean(string="Saturday")
    contact_sunday = fields.Boolean(string="Sunday")
    max_contacts_per_week = fields.Integer(string="Contacts per 7 Days")

    # The database keeps the hours sane whatever writes them (``_check_contact_window`` says it at
    # the save, in the user's language).
    _check_contact_hours = models.Constraint(
        "CHECK(contact_hour_from >= 0 AND contact_hour_to <= 24 AND contact_hour_from < contact_hour_to "
        "AND contact_weekend_hour_from >= 0 AND contact_weekend_hour_to <= 24 "
        "AND contact_weekend_hour_from < contact_weekend_hour_to)",
        "Contact hours must be between 0 and 24, the start before the end.",
    )

    @api.constrains("contact_hour_from", "contact_hour_to", "contact_weekend_hour_from", "contact_weekend_hour_to")
    def _check_contact_window(self):
        for record in self:
            if not (
                0 <= record.contact_hour_from < record.contact_hour_to <= 24
                and 0 <= record.contact_weekend_hour_from < record.contact_weekend_hour_to <= 24
            ):
                raise ValidationError(_("Contact hours must be between 0 and 24, the start before the end."))

    @api.model
    def _collection_weekday_fields(self):
        """The weekday fields, Monday first."""
        return WEEKDAY_FIELDS

    @api.model
    def _collection_contact_window_fields(self):
        """The names of the fields this mixin declares (every stored field of it)."""
        mixin = self.env["collection.contact.window.mixin"]
        return [name for name, field in mixin._fields.items() if field.store and name not in models.MAGIC_COLUMNS]

    def _collection_contact_window_values(self):
        """The values of this record's contact window, to copy into another record of the mixin."""
        self.ensure_one()
        return {name: self[name] for name in self._collection_contact_window_fields()}

    def _allowed_weekdays(self):
        """Weekday numbers (Monday = 0) on which this record allows contacting customers."""
        self.ensure_one()
        return {day for day, name in enumerate(WEEKDAY_FIELDS) if self[name]}
