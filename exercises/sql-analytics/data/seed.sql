INSERT INTO customers VALUES
    (1, 'Ada', 'Lyon'), (2, 'Grace', 'Paris'), (3, 'Linus', 'Lille'),
    (4, 'Margaret', 'Nantes'), (5, 'Ken', 'Paris');
INSERT INTO products VALUES
    (10, 'Kettle', 'kitchen'), (11, 'Toaster', 'kitchen'), (12, 'Pan', 'kitchen'),
    (20, 'Desk lamp', 'office'), (21, 'Notebook', 'office'), (22, 'Chair', 'office');
INSERT INTO orders VALUES
    (100, 1, '2024-01-05'), (101, 2, '2024-01-07'), (102, 1, '2024-01-20'),
    (103, 3, '2024-02-02'), (104, 2, '2024-02-11'), (105, 1, '2024-03-01'),
    (106, 5, '2024-03-03');
INSERT INTO order_lines VALUES
    (100, 10, 1, 30.0), (100, 21, 3, 4.5),
    (101, 22, 1, 120.0),
    (102, 11, 2, 25.0), (102, 21, 2, 4.5),
    (103, 20, 2, 35.0), (103, 12, 1, 40.0),
    (104, 10, 2, 30.0),
    (105, 22, 1, 110.0), (105, 12, 1, 40.0),
    (106, 21, 10, 4.0);
