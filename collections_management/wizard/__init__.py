from . import collection_case_reassign, collection_log_contact
