"""The negativity stream: the Faust app, its agents and the model it runs."""
