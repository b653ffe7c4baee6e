DROP TABLE IF EXISTS staff_summaries;
