DROP TABLE shop_basket_marks;
DROP TABLE shop_basket_rows;
DROP TABLE shop_products;
