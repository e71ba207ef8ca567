"""Benchmarking an LA from DfE's published statistics alone (issue #7).

Before any pupil data is loaded, an LA analyst can compare the LA with its region and England
over every published year (:mod:`.series`), see its schools on funnel plots (:mod:`.funnel`),
against what their intake predicts (:mod:`.expected`, a binomial GLM fitted on every
state-funded school in England), beside the ten most similar schools in England
(:mod:`.similar`), and its pupils' absence bands by FSM, SEN and year group (:mod:`.bands`).
The ``published_benchmark`` notebook and ``attendance benchmark`` (:mod:`.cli`) put it together.

Submodules are imported on demand; nothing is read at import.
"""
