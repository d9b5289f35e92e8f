from . import test_dunning_engine
