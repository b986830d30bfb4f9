"""The label app: analysts review alerts, label them and watch the model's quality (Gradio; see README.md)."""
