"""The inventories shipped with the suite (data): ``local.yaml``, the default, checks this machine."""
