"""Pure machine-learning functions: features, training, evaluation, thresholds and explanations.

No Dagster, MLflow or I/O here: assets and the BentoML service call these functions.
"""
