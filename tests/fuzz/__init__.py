"""The differential fuzzer: our engine and DCMTK's echoscu against the same generated answers (docs/dev/fuzzing.md)."""
