"""Scale-out: ensemble training on local processes or AWS Batch (core/scaleout)."""
