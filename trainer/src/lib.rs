//! QuantNAS trainer: data, evaluation, QAT, search and export on top of `quantnas-core`.
