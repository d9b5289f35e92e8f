from . import collection_aging_export, collection_case_reassign, collection_log_contact
