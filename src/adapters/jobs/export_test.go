package jobs

// CountsSQL is Counts' statement, for its plan.
const CountsSQL = countsSQL
