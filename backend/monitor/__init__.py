"""Live monitoring: scheduled probe rounds, flap suppression, history."""
