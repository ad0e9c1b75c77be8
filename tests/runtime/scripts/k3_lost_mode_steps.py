"""A helper of k3_lost_mode.py: the model call here passes no `training`."""


def predict_logits(model, batch):
    return model(batch)  # confirm: BN801 new
