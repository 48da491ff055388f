DROP TABLE sortition_volunteers;
DROP TABLE sortition_draws;
