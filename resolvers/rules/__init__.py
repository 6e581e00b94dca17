"""The domain rules that several features share, each defined once and usable as Python and as SQL.

One module per rule; each module's docstring says what the rule decides and where it comes from.
The rules import nothing of the hub but the vocabulary and each other, so every package may use them.
"""
