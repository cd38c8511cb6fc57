"""The demo catalogue: 13 producers of Gia Lâm and their 139 products (names, prices and OCOP ratings of the
kind the district's shop lists; the businesses are made up). Read by marketplace/demo.py."""

from __future__ import annotations

# (commune slug, business name, owner, kind, goods category, description, product category, products)
# A product: (name, price in đồng, unit, stock, OCOP stars or None)


def _sizes(base: str, unit: str, prices: list[tuple[str, int]], stars=None, stock=20):
    return [(f"{base} {label}".strip(), price, unit, stock, stars) for label, price in prices]


PRODUCERS = [
    ("bat-trang", "Gốm sứ Minh Long Bát Tràng", "Nguyễn Văn Minh", "household", "ceramics",
     "Lò gốm gia đình ba đời ở Giang Cao, chuyên men lam vẽ tay.", "thu-cong-my-nghe",
     _sizes("Bình gốm men lam vẽ tay Bát Tràng", "cái", [("cao 20 cm", 280_000), ("cao 30 cm", 450_000),
                                                        ("cao 40 cm", 790_000), ("cao 60 cm", 1_650_000)], 4)
     + _sizes("Bộ ấm chén men rạn Bát Tràng", "bộ", [("6 chén", 380_000), ("10 chén", 520_000)], 4)
     + _sizes("Đĩa trang trí men lam Bát Tràng", "cái", [("đường kính 25 cm", 220_000), ("đường kính 35 cm", 360_000)])
     + _sizes("Lọ hoa dáng tỏi men rạn", "cái", [("nhỏ", 190_000), ("lớn", 340_000)])
     + [("Bát ăn cơm men lam hoa sen", 45_000, "cái", 120, None), ("Cốc sứ in tên theo yêu cầu", 85_000, "cái", 60, None),
        ("Hũ đựng gạo men nâu 10 kg", 420_000, "cái", 12, None), ("Chậu gốm trồng lan men xanh", 160_000, "cái", 30, None)]),
    ("bat-trang", "Hợp tác xã Gốm men lam Bát Tràng", "Lê Thị Hoa", "cooperative", "ceramics",
     "Hợp tác xã của 24 hộ làm gốm, sản phẩm đạt OCOP 4 sao.", "thu-cong-my-nghe",
     _sizes("Bộ bát đĩa men lam 22 món", "bộ", [("hoa cúc", 1_250_000), ("phong cảnh", 1_380_000)], 4)
     + _sizes("Tượng gốm Di Lặc men màu", "cái", [("cao 15 cm", 250_000), ("cao 30 cm", 680_000)])
     + _sizes("Đèn ngủ gốm thấu quang", "cái", [("hoa sen", 520_000), ("chim lạc", 560_000)])
     + [("Bình hút lộc men vẽ vàng kim", 1_850_000, "cái", 6, 4), ("Ấm tử sa khắc chữ Phúc", 650_000, "cái", 15, None),
        ("Lục bình men lam cao 1 m", 6_500_000, "đôi", 2, 4), ("Khay trà gốm men hỏa biến", 310_000, "cái", 25, None),
        ("Chén tống men ngọc", 95_000, "cái", 80, None), ("Lọ tăm gốm vẽ hoa đào", 55_000, "cái", 100, None)]),
    ("bat-trang", "Lò gốm Vạn Phúc", "Phạm Văn Phúc", "household", "ceramics",
     "Gốm men nâu, men gio truyền thống nung lò củi.", "thu-cong-my-nghe",
     _sizes("Chum gốm men nâu ngâm rượu", "cái", [("10 lít", 450_000), ("20 lít", 750_000), ("50 lít", 1_500_000)])
     + _sizes("Nậm rượu men gio", "cái", [("0,5 lít", 150_000), ("1 lít", 220_000)])
     + [("Đôn gốm ngồi vườn men xanh", 980_000, "cái", 4, None), ("Lư hương men rạn đắp nổi rồng", 1_150_000, "cái", 5, None),
        ("Bát hương men lam vẽ rồng", 690_000, "cái", 8, 3), ("Tranh gốm phố cổ Hà Nội", 2_400_000, "bức", 3, None),
        ("Gạch gốm ốp tường hoa văn cổ", 35_000, "viên", 500, None)]),
    ("kieu-ky", "Cơ sở dát vàng quỳ Kiêu Kỵ", "Nguyễn Văn Quỳ", "household", "gold leaf",
     "Nghề quỳ vàng, quỳ bạc Kiêu Kỵ, dát thủ công từng lá.", "thu-cong-my-nghe",
     _sizes("Vàng quỳ dát tay 24K", "tập", [("100 lá", 1_900_000), ("50 lá", 980_000)], 4, 15)
     + _sizes("Bạc quỳ dát tay", "tập", [("100 lá", 420_000)], None, 25)
     + _sizes("Tranh dát vàng Văn Miếu", "bức", [("40 × 60 cm", 2_800_000), ("60 × 90 cm", 4_500_000)], 4, 5)
     + [("Hộp sơn mài dát vàng", 650_000, "cái", 12, None), ("Đĩa gỗ sơn son thếp vàng", 850_000, "cái", 8, None),
        ("Câu đối gỗ thếp vàng", 5_200_000, "đôi", 2, None), ("Khay trầu sơn son thếp bạc", 720_000, "cái", 6, None),
        ("Tranh chữ Tâm dát vàng", 1_600_000, "bức", 7, 4)]),
    ("kieu-ky", "Xưởng da thuộc Kiêu Kỵ", "Trần Văn Đức", "household", "leather",
     "Đồ da thủ công của làng da Kiêu Kỵ.", "thu-cong-my-nghe",
     _sizes("Ví da bò thủ công", "cái", [("nam", 390_000), ("nữ", 420_000)])
     + _sizes("Thắt lưng da bò khóa đồng", "cái", [("bản 3,5 cm", 450_000)])
     + [("Túi xách da bò may tay", 1_450_000, "cái", 6, None), ("Dép da quai ngang", 320_000, "đôi", 20, None),
        ("Bao da hộ chiếu khắc tên", 250_000, "cái", 30, None), ("Giày da nam buộc dây", 1_250_000, "đôi", 8, None),
        ("Móc khóa da hình trâu", 65_000, "cái", 80, None)]),
    ("ninh-hiep", "Nhà thuốc nam Ninh Hiệp", "Đỗ Thị Lan", "household", "herbs",
     "Phố thuốc bắc Ninh Hiệp, thảo dược sơ chế sạch, đóng gói hút chân không.", "thao-duoc",
     _sizes("Trà túi lọc hoa đu đủ đực", "hộp", [("25 túi", 85_000)], 3)
     + _sizes("Cao ích mẫu", "chai", [("250 ml", 120_000)], 3)
     + _sizes("Thuốc ngâm chân thảo dược", "gói", [("10 gói", 95_000)], 3)
     + [("Quế thanh Yên Bái loại 1", 160_000, "kg", 40, None), ("Hoa hồi khô", 240_000, "kg", 30, None),
        ("Đương quy thái lát", 380_000, "kg", 25, None), ("Kỷ tử Ninh Hạ", 290_000, "kg", 35, None),
        ("Táo đỏ Tân Cương", 180_000, "kg", 50, None), ("Cam thảo bắc", 260_000, "kg", 20, None),
        ("Bột nghệ vàng nguyên chất", 150_000, "hộp 500 g", 60, None), ("Tinh dầu sả chanh", 75_000, "chai 100 ml", 70, None),
        ("Gối thảo dược ngải cứu", 210_000, "cái", 25, 3), ("Trà gừng mật ong", 65_000, "hộp", 90, None),
        ("Cao gắm khớp", 320_000, "hộp", 15, None)]),
    ("ninh-hiep", "Vải lụa Ninh Hiệp", "Nguyễn Thị Hằng", "household", "textiles",
     "Vải vóc, lụa tơ tằm và áo dài may sẵn của chợ vải Ninh Hiệp.", "thu-cong-my-nghe",
     _sizes("Lụa tơ tằm trơn khổ 90 cm", "mét", [("màu ngà", 220_000), ("màu đỏ đô", 230_000)])
     + _sizes("Khăn lụa vẽ tay", "chiếc", [("hoa sen", 280_000), ("phố cổ", 300_000)])
     + [("Áo dài lụa in hoa may sẵn", 950_000, "bộ", 10, None), ("Vải gấm thái khổ 1,2 m", 140_000, "mét", 200, None),
        ("Khăn tắm sợi tre", 95_000, "chiếc", 60, None), ("Áo bà ba lụa", 480_000, "bộ", 15, None)]),
    ("dang-xa", "Hợp tác xã rau an toàn Đặng Xá", "Ngô Văn Hải", "cooperative", "vegetables",
     "Rau trồng theo VietGAP, thu hái buổi sáng, giao trong ngày.", "thuc-pham",
     _sizes("Rau cải ngọt VietGAP", "bó 500 g", [("", 18_000)], 3, 80)
     + _sizes("Cà chua bi VietGAP", "hộp 500 g", [("", 35_000)], 3, 60)
     + [("Dưa chuột baby", 30_000, "kg", 70, None), ("Su hào Đặng Xá", 12_000, "củ", 100, None),
        ("Cà rốt hữu cơ", 28_000, "kg", 90, None), ("Rau muống VietGAP", 15_000, "bó", 100, 3),
        ("Bắp cải tím", 25_000, "cái", 50, None), ("Nấm sò tươi", 60_000, "kg", 30, None),
        ("Trứng gà ta thả vườn", 45_000, "chục", 80, None), ("Đậu đũa", 32_000, "kg", 40, None),
        ("Xà lách thủy canh", 22_000, "cây", 60, None), ("Khoai lang mật", 35_000, "kg", 80, None)]),
    ("phu-thi", "Trại ong mật Phú Thị", "Hoàng Văn Bình", "household", "honey",
     "Ong nuôi giữa vườn nhãn, vải ven đê; mật lọc lạnh.", "thuc-pham",
     _sizes("Mật ong hoa nhãn", "chai", [("500 ml", 180_000), ("1 lít", 340_000)], 4, 40)
     + _sizes("Mật ong hoa vải", "chai", [("500 ml", 170_000)], 3, 30)
     + [("Mật ong rừng nguyên sáp", 450_000, "hộp", 10, None), ("Phấn hoa ong", 220_000, "hũ 250 g", 20, None),
        ("Sữa ong chúa tươi", 380_000, "hũ 100 g", 12, None), ("Chanh đào ngâm mật ong", 160_000, "hũ", 25, None),
        ("Sáp ong nguyên chất", 90_000, "bánh", 30, None)]),
    ("le-chi", "Hợp tác xã nếp cái hoa vàng Lệ Chi", "Vũ Thị Thu", "cooperative", "rice",
     "Gạo nếp cái hoa vàng vùng bãi sông Đuống.", "thuc-pham",
     _sizes("Gạo nếp cái hoa vàng", "túi", [("2 kg", 85_000), ("5 kg", 200_000)], 4, 100)
     + _sizes("Gạo bắc hương", "túi", [("5 kg", 120_000)], 3, 80)
     + [("Bánh chưng nếp cái hoa vàng", 90_000, "chiếc", 40, None), ("Xôi gấc đóng hộp", 45_000, "hộp", 30, None),
        ("Cốm non Lệ Chi", 250_000, "kg", 15, None), ("Bánh cốm nhân đậu xanh", 60_000, "hộp 10 chiếc", 40, 3),
        ("Đường phèn thô", 55_000, "kg", 60, None), ("Mạch nha nếp", 70_000, "hũ", 30, None),
        ("Bột nếp xay nước", 48_000, "kg", 50, None)]),
    ("trung-mau", "Hợp tác xã rượu nếp Trung Mầu", "Đặng Văn Sơn", "cooperative", "drinks",
     "Rượu nếp cái nấu thủ công, hạ thổ; trà và nước ép của hợp tác xã.", "do-uong",
     _sizes("Rượu nếp cái hoa vàng hạ thổ", "chai", [("500 ml", 120_000), ("1 lít", 210_000)], 3, 50)
     + _sizes("Rượu mơ ngâm", "bình", [("1 lít", 260_000)], None, 20)
     + [("Trà sen Tây Hồ ướp bông", 650_000, "hộp 100 g", 15, 4), ("Trà xanh Thái Nguyên", 180_000, "gói 200 g", 60, None),
        ("Nước cốt gừng mật ong", 95_000, "chai", 40, None), ("Rượu nếp cẩm", 110_000, "chai 500 ml", 35, None),
        ("Nước ép táo mèo", 85_000, "chai", 30, None), ("Sữa đậu nành nếp cẩm", 25_000, "chai", 100, None),
        ("Trà hoa cúc chi", 120_000, "hộp", 40, None)]),
    ("co-bi", "Vườn cây cảnh Cổ Bi", "Bùi Văn Tùng", "household", "plants",
     "Cây cảnh, bonsai và hoa chậu ươm tại vườn Cổ Bi.", "sinh-vat-canh",
     _sizes("Cây sanh bonsai dáng trực", "chậu", [("cao 40 cm", 1_800_000), ("cao 70 cm", 4_500_000)], None, 5)
     + _sizes("Lan hồ điệp", "chậu", [("3 cành", 850_000), ("5 cành", 1_350_000)], None, 12)
     + [("Đào thế mini chơi Tết", 650_000, "chậu", 20, None), ("Quất cảnh chưng Tết", 900_000, "chậu", 15, None),
        ("Cây kim tiền để bàn", 180_000, "chậu", 40, None), ("Sen đá mix chậu gốm", 120_000, "chậu", 50, None),
        ("Cây lưỡi hổ thanh lọc không khí", 150_000, "chậu", 40, None), ("Mai chiếu thủy bonsai", 2_200_000, "chậu", 3, None),
        ("Hoa giấy ghép nhiều màu", 350_000, "chậu", 25, None)]),
    ("bat-trang", "Du lịch làng nghề Bát Tràng", "Trần Thị Mai", "cooperative", "tourism",
     "Tour làng gốm, lớp nặn gốm và ăn trưa nhà vườn.", "du-lich-cong-dong",
     _sizes("Trải nghiệm nặn gốm và vẽ men", "vé", [("1 người", 90_000), ("gia đình 4 người", 320_000)], 3, 200)
     + _sizes("Tour làng cổ Bát Tràng nửa ngày", "vé", [("người lớn", 250_000), ("trẻ em", 150_000)], 3, 100)
     + [("Tour xe điện quanh làng gốm", 60_000, "vé", 300, None), ("Bữa trưa nhà vườn làng nghề", 180_000, "suất", 80, None),
        ("Tour đạp xe đê sông Hồng", 200_000, "vé", 60, None), ("Lớp vẽ gốm cho học sinh", 70_000, "vé", 300, None),
        ("Tour kết hợp Bát Tràng – Kiêu Kỵ", 450_000, "vé", 50, None), ("Trải nghiệm làm vàng quỳ", 150_000, "vé", 40, None),
        ("Thuê hướng dẫn viên làng nghề", 500_000, "buổi", 20, None), ("Homestay nhà cổ Bát Tràng", 650_000, "đêm", 10, None)]),
]
