"""Load tests that need more than a unit test: many endpoints, real peers, the module as a process."""
