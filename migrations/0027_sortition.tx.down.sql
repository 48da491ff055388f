DROP TABLE sortition_seats;
DROP TABLE sortition_volunteers;
DROP TABLE sortition_draws;
