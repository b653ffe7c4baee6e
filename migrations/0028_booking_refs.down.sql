DROP TABLE ref_lookups;
DROP TABLE booking_refs;
