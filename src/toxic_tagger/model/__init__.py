"""The model: pretrained loading, the LightningModule and its training, the speed patches it
trains and predicts with, the TF-IDF baseline and the blend, and the exported folder."""
