# The same answers without the attack.
