"""Sentence splitting on real news text: an abbreviation inside a sentence must not cut it in two
(the highlighted answer sentence would be half of one), and a real sentence end must still split.

Every excerpt in KEPT_TOGETHER and SPLIT is copied from an article in the dev data (IndoSum,
the QA passage pools, the English-Indonesian news pairs), not written for the test.
"""
from __future__ import annotations

from qa.sentences import sentence_spans, split_sentences

# (real excerpt, the stretch around the abbreviation that one sentence must hold)
KEPT_TOGETHER = [
    ("Dan kata dia, unit usaha milik PT. CPI yang berada di Cikande Serang saat ini telah "
     "memperoleh Sertifikasi NKV", "milik PT. CPI"),
    ("Hal tersebut disampaikannya saat melepas ekspor perdana produk daging ayam olahan milik PT. "
     "Charoen Pokphand Indonesia ke Papua New Guinea, di Kawasan Industri Modern Cikande Serang "
     "Provinsi Banten, Senin (13/3/ 2017).", "PT. Charoen"),
    ("Sistem perkeretaapian Indonesia juga didukung industri sinyal dan telekomunikasi yang andal "
     "yang dikerjakan PT. LEN Industri Bandung.", "PT. LEN"),
    ("Ratu Tisha saat ini menjabat Direktur Kompetisi PT. Liga Indonesia Baru.", "PT. Liga"),
    ('"Ibu yang melahirkan di Bus di Tol Cipali yang dievakuasi Kasat Satlantas Purwakarta AKP '
     'Arman Sahti ke RS. Siloam Purwakarta diberi nama Bhayangkari Ramadniya," tulis akun '
     'Instagram TMC Polda Metro Jaya, Senin (3/7).', "RS. Siloam"),
    ("RS Hasan Sadikin (Bandung), RS Soetomo (Surabaya), RS Dr. Kariadi (Semarang) dan RS "
     "Sardjito (Yogyakarta).", "RS Dr. Kariadi"),
    ('Biarlah masyarakat bahasa kebebasan untuk memilih," kata Prof. Dr. Fathur Rokhman M.Hum. '
     'menjawab pertanyaan Antara di Semarang, Minggu.', "Prof. Dr. Fathur"),
    ("Kadiskes Kolinlamil Letkol Laut (K) dr. Hengky Setyahadi Sp. B, FINACS, FICS, mengatakan "
     "fumigasi adalah salah satu cara pengendalian hama", "dr. Hengky Setyahadi Sp. B"),
    ("Direktur RS Kasih Ibu Denpasar, dr. I Gusti Ngurah Rai MM mengatakan dengan kondisi pasien "
     "seperti itu", "dr. I Gusti"),
    ('total sekitar Rp 102 miliar," kata Menteri Hukum dan HAM, Yasonna H. Laoly.', "H. Laoly"),
    ("Laga yang berlangsung di Stadion H. Agus Salim, Sabtu (13/5) lalu berakhir imbang tanpa "
     "gol.", "H. Agus"),
    ("Mpok Yuli adalah penerus usaha Rumah Makan Sayur Asem Betawi H. Masa yang berdiri sejak "
     "tahun 1980-an.", "H. Masa"),
    ("menabur bunga di makam Pahlawan Revolusi, Alm. H. Adam Malik, Alm. H. Umar "
     "Wirahadikusumah, Alm. H. Soedharmono, Almh. Hj. Ainun Habibie, Alm. H. Taufiq Kiemas, "
     "Pahlawan Prajurit Tamtama, dan Pahlawan Tak Dikenal.", "Almh. Hj. Ainun"),
    ("tutur Febe kepada awak media saat ditemui di rumah duka di Jl. Kecapi II No.64, Jagakarsa, "
     "Jakarta Selatan.", "Jl. Kecapi"),
    ("sidang isbat akan digelar pada Selasa (22/8) di Auditorium HM Rasjidi, Kantor Kementerian "
     "Agama, Jl. MH Thamrin Jakarta Pusat.", "Jl. MH Thamrin"),
    ("yaitu di Stadion Kridosono yang beralamatkan di Jl. Yos Sudarso No. 9, Kotabaru, "
     "Yogyakarta.", "Jl. Yos Sudarso No. 9"),
    ("Lokasinya di Jalan Tanjung Duren Utara IV No. 54, Jakarta Barat.", "No. 54"),
    ("Charles disangkakan pasal 12 huruf a atau pasal 12 huruf b atau Pasal 11 UU No. 31 Tahun "
     "1999 sebagaimana telah diubah dengan UU No. 20 Tahun 2001", "UU No. 31"),
    ("diikuti oleh peserta dari sembilan kabupaten/kota di Kalimantan Selatan yaitu Kab. "
     "Tabalong, Kab. Hulu Sungai Utara, Kab. Hulu Sungai Tengah, Kab. Balangan, Kab. Banjar",
     "Kab. Tabalong, Kab. Hulu"),
    ("Ibu kotanya terletak di Pattallassang. Kab. Takalar terdiri dari sembilan kecamatan",
     "Kab. Takalar"),
    ("Dispar Aceh fasilitasi 1 (satu) industri pariwisata (Co - Exhibitor), Dispar Prov. "
     "Sumatera Barat TBC, Disbudpar Prov. Kepulauan Bangka Belitung fasilitasi 3 (tiga)",
     "Dispar Prov. Sumatera"),
    ("Situasi tersebut mendorong misionaris yang bertugas di Korowai, yakni Mr. Trevor dan "
     "istrinya Teresa, menjadi tenaga kesehatan di sana.", "Mr. Trevor"),
    ("saat mereka bermusuhan dengan Mr. McGregor (Gleeson) dengan mencuri dari kebunnya",
     "Mr. McGregor"),
    ('Film "Mr. & Mrs. Smith" hingga kini dikenang sebagai film ikonik', "Mrs. Smith"),
    ("ketika dia menyatakan setuju bermain dalam turnamen catur di St. Louis, Missouri, yang "
     "diselenggarakan setelah kompetisi tahunan Piala Sinquefield", "St. Louis"),
    ("Arsenal harus puas dengan hasil imbang 1-1 saat mereka bertandang ke markas Southampton, "
     "Stadion St. Mary, Minggu (10/12).", "St. Mary"),
    ("Wasit Sirnas - MSC Banjarmasin Ir. H. Acep Kusumahady dalam keterangannya, Senin "
     "mengungkapkan", "Ir. H. Acep"),
    ("Rute sendiri akan mulai dari depan Gedung Sate, menuju Jalan Ir. H. Djuanda (Dago), Jalan "
     "Merdeka menuju Taman Vanda.", "Jalan Ir. H. Djuanda"),
    ("Prof. Chozin menjelaskan bahwa secara keseluruhan proses pemilihan berjalan dengan baik dan "
     "lancar.", "Prof. Chozin"),
    ("Humphrey Djemat mengklaim memiliki rekaman percakapan antara mantan presiden Susilo Bambang "
     "Yudhoyono dengan Ketua Umum MUI, KH. Ma'ruf Amin, sehari sebelum", "KH. Ma'ruf"),
    ("dan denda Rp. 10.000.000, - karena mencekik pemain PSM Makassar Sdr. Marc Anthony Klok.",
     "Sdr. Marc"),
    ("Untuk setiap hasil angkutan mereka dihargai Rp. 1.025 per KG oleh pengepul.", "Rp. 1.025"),
    ('aktor yang memenangkan Oscar untuk film "Rain Man" dan "Kramer vs. Kramer" ini menolak '
     'berkomentar', "vs. Kramer"),
    ("serta Irjen Kementerian Agama M. Jasin, Menag menjelaskan bahwa kepatuhan dan ketaatan "
     "jamaah haji", "M. Jasin"),
    ("kata Konsul Jenderal RI Jeddah M. Hery Saripudin, seperti dikutip bumn.go.id, hari ini.",
     "M. Hery"),
    ("juga tidak betul,” kata Ny. Isah, warga Cilodong, Depok.", "Ny. Isah"),
    ("Kepala Kepolisian Negara Republik Indonesia (Kapolri) Jenderal Pol. Tito Karnavian dan "
     "Kepala Badan Intelijen Negara (BIN) Budi Gunawan.", "Pol. Tito"),
    ("lokasinya bertempat di gedung Capital Place, lantai 49, Jalan Jend. Gatot Subroto, Jakarta "
     "Selatan.", "Jend. Gatot"),
    ("Penangkapan dilakukan di Jln. Medan - Banda Aceh, Kab Aceh Tamiang pada Minggu (5/11) dini "
     "hari, pukul 02.30.", "Jln. Medan"),
    ('"Secara keseluruhan kondisinya stabil," kata Kabid Dokkes Polda Papua Kombes drg. Raymond, '
     'seperti dilansir Antara, Kamis (25/5).', "drg. Raymond"),
    ("karena tidak melaksanakan ketentuan MLC,” kata Presiden KPI Capt. Hasudungan Tambunan di "
     "Jakarta.", "Capt. Hasudungan"),
    ("Nokia menguji kemampuan 5 G mereka bersama operator telekomunikasi U.S. Cellular di Amerika "
     "Serikat.", "U.S. Cellular"),
    ('kata Michael S. Irizarry, wakil presiden eksekutif dan kepala pejabat teknologi U.S. '
     'Cellular', "Michael S. Irizarry"),
    ("Penulis: Moh. Shofan, aktivis Muhammadiyah, kandidat doktor UIN Syarif Hidayatullah "
     "Jakarta", "Moh. Shofan"),
    ("Drs. H. Abdul Karim sebagai Pembantu Rektor Bidang Administrasi dan Drs. M. Siombo sebagai "
     "Pembantu Rektor Bidang Kemahasiswaan.", "Drs. M. Siombo"),
    ("Ir. T. Malaka sebagai Dekan Fakultas Pertanian, Dra. Ny. S.P Santo sebagai Dekan Fakultas "
     "Keguruan", "Dra. Ny. S.P Santo"),
    ("Sunjaya menikah dengan gadis Surabaya pilihannya bernama Hj. Wahyu Tjiptaningsih, S.E., "
     "M.Si. (Ayu) Putri Tunggal dari pasangan H. Sukanto dan Hj. Mudjiasri.", "M.Si. (Ayu)"),
    ("Gereja ini sesungguhnya bernama Gereja GPIB Immanuel, di Jl. Letjend. Suprapto 32.",
     "Jl. Letjend. Suprapto"),
    ("Ide Chairul mendapat sambutan tokoh-tokoh masyarakat diantaranya Buya Sae Ahmat Dt. Bandaro "
     "Kayo berada di garis depan.", "Dt. Bandaro"),
    ("PLO didirikan pada 1964, setelah didahului oleh langkah awal Alm. Yasser Arafat untuk "
     "menyatukan semua organisasi perlawanan Palestina", "Alm. Yasser"),
    ("Kanit Reskrim Polsek Kebayoran Baru Kompol Subowo menerangkan kejadian berawal Pk. 04:30 "
     "Subuh, saat korban diserang", "Pk. 04:30"),
    ("tidak diizinkan untuk meminta Bpk. Angonese memiliki sertifikat dwibahasa", "Bpk. Angonese"),
    ("Pendahulu lain dari gereja Reformed termasuk pro-reformasi dan Katolik Roma Gallican, "
     "seperti Jacques Lefevre (c. 1455-1536).", "(c. 1455"),
    # English
    ("French Huguenot explorer Jean Ribault charted the St. Johns River in 1562 calling it the "
     "River of May", "St. Johns"),
    ("a Spanish force from the nearby Spanish settlement of St. Augustine attacked Fort Caroline",
     "St. Augustine"),
    ("the high court was trying to nullify a World War I claim against the U.S. government by "
     "the Marconi Company", "U.S. government"),
    ("In much of the U.S. South, many white students migrated to the academies", "U.S. South"),
    ("President of Puntland Abdiweli Mohamed Ali; U.S. Ambassador to the European Union Anthony "
     "Luzzatto Gardner.", "U.S. Ambassador"),
    ("Politics: U.N. Secretary General Ban Ki-moon; American political leaders John Hancock",
     "U.N. Secretary"),
    ('in "The Empty Child" (2005), Dr. Constantine states that, "Before the war even began, I '
     'was a father and a grandfather.', "Dr. Constantine"),
    ("you should visit Sate Padang Talago Biru Stall which located on Jl. Lebak Bulus Raya, "
     "Pasarjumaat, South Jakarta.", "Jl. Lebak"),
    ("Vice Director of Jakarta Police Traffic Unit, Sr. Comr. Wahyono, disclosed that the police "
     "had to apply traffic diversion", "Sr. Comr. Wahyono"),
    ("James O. McKinsey, Arley D. Cathey, Bloomberg L.P. CEO Daniel Doctoroff, Credit Suisse CEO "
     "Brady Dougan", "L.P. CEO"),
    ("Mayor W. Haydon Burns' Jacksonville Story resulted in the construction of a new city hall",
     "W. Haydon"),
    ("Kenya has ratified Convention No. 81 on labour inspection in industries and Convention No. "
     "129 on labour inspection in agriculture.", "Convention No. 81"),
    ("the person will be severely sanctioned in accordance to Government Regulation (PP) No. "
     "53/2010 about Civil Servant Code of Conduct.", "No. 53/2010"),
    ("the 1954 decision in the landmark court case Brown v. Board of Education of Topeka",
     "v. Board"),
    ("It is a single-step, 5-cylinder engine (no compound) with superheated steam and consumes "
     "approx. 4 kg (8.8 lb) of steam per kWh.", "approx. 4 kg"),
    ("13,924 Street Vendors in W. Jakarta will Be Localized", "W. Jakarta"),
    ("kata Kylie kepada The Sunday Times Style seperti dikutip E! News.", "E! News"),
]

# (real excerpt, its sentences): ends that look like abbreviations but are ends. "dll.", "dsb.",
# "dkk.", "etc.", "Inc." and "Jr." close a list or a name: a capital after them starts a sentence.
SPLIT = [
    ("pedoman toponimi atau nama, dll. Sebagai dasar perlunya standardisasi global nama geografis, "
     "UNGEGN mengutamakan pencatatan nama lokal",
     ["pedoman toponimi atau nama, dll.",
      "Sebagai dasar perlunya standardisasi global nama geografis, UNGEGN mengutamakan pencatatan "
      "nama lokal"]),
    ('"Seorang pejabat Polri aktif mengatakan bahwa PNS akan dipecat karena ikut HTI dll. Polisi '
     'kini sedang berburu."',
     ['"Seorang pejabat Polri aktif mengatakan bahwa PNS akan dipecat karena ikut HTI dll.',
      'Polisi kini sedang berburu."']),
    ("Buah bit mengandung vitamin C, magnesium, zat besi dll. Manfaat buah bit adalah bisa "
     "mencegah hipertensi",
     ["Buah bit mengandung vitamin C, magnesium, zat besi dll.",
      "Manfaat buah bit adalah bisa mencegah hipertensi"]),
    ("seperti untuk jalan, pemakaman, pertokoan, dsb. Wilayah Kecamatan Patean terbagi menjadi 14 "
     "desa",
     ["seperti untuk jalan, pemakaman, pertokoan, dsb.",
      "Wilayah Kecamatan Patean terbagi menjadi 14 desa"]),
    ("Musik ini merupakan kumpulan beragam alat musik seperti gendang, go'ong atau gong, saron, "
     "kacapi, suling, angklung. dsb. Degung bisa diibaratkan 'Orkestra' dalam musik Eropa/Amerika.",
     ["Musik ini merupakan kumpulan beragam alat musik seperti gendang, go'ong atau gong, saron, "
      "kacapi, suling, angklung. dsb.",
      "Degung bisa diibaratkan 'Orkestra' dalam musik Eropa/Amerika."]),
    ("berhasil diterapkan dengan baik oleh Randle dkk. Pasca - unggul tipis 67-64 pada akhir paruh "
     "pertama laga, Lakers langsung merapatkan pertahanan mereka.",
     ["berhasil diterapkan dengan baik oleh Randle dkk.",
      "Pasca - unggul tipis 67-64 pada akhir paruh pertama laga, Lakers langsung merapatkan "
      "pertahanan mereka."]),
    ("control of the internet and unauthorised satellite dishes etc. Nor is such a usage of "
     "culture recent",
     ["control of the internet and unauthorised satellite dishes etc.",
      "Nor is such a usage of culture recent"]),
    ("Open DNS milik Cisco Systems Inc. Hal ini membuat Dyn sulit memutus aliran situs penyerang.",
     ["Open DNS milik Cisco Systems Inc.", "Hal ini membuat Dyn sulit memutus aliran situs "
                                           "penyerang."]),
    ("hingga Play Inc. Mereka menggantinya dengan Xbox One S, versi - versi bundel",
     ["hingga Play Inc.", "Mereka menggantinya dengan Xbox One S, versi - versi bundel"]),
    ("CEO dari perusahaan teknologi pendidikan dan sumber daya manusia, Hitomedia Inc. Morita "
     "memberikan nasihat strategis dan bisnis untuk TalentMind.",
     ["CEO dari perusahaan teknologi pendidikan dan sumber daya manusia, Hitomedia Inc.",
      "Morita memberikan nasihat strategis dan bisnis untuk TalentMind."]),
    ("Dropbox adalah layanan penyedia data berbasis web yang dioperasikan oleh Dropbox, Inc. "
     "Dropbox menggunakan sistem penyimpanan berjaringan",
     ["Dropbox adalah layanan penyedia data berbasis web yang dioperasikan oleh Dropbox, Inc.",
      "Dropbox menggunakan sistem penyimpanan berjaringan"]),
    ("pertarungan fantasi antara McGregor lawan Mayweather Jr. Publik langsung penasaran "
     "menantikan kehebatan McGregor di dunia tinju saat menghadapi Mayweather Jr. yang tak "
     "terkalahkan sepanjang kariernya.",
     ["pertarungan fantasi antara McGregor lawan Mayweather Jr.",
      "Publik langsung penasaran menantikan kehebatan McGregor di dunia tinju saat menghadapi "
      "Mayweather Jr. yang tak terkalahkan sepanjang kariernya."]),
    ("Banjir hanya menggenai gedung F dan gedung E. Sementara untuk Blok G tidak terkena imbas "
     "banjir",
     ["Banjir hanya menggenai gedung F dan gedung E.",
      "Sementara untuk Blok G tidak terkena imbas banjir"]),
    ("condenser temperatures are around 30 °C. This gives a theoretical Carnot efficiency",
     ["condenser temperatures are around 30 °C.", "This gives a theoretical Carnot efficiency"]),
    ("sebuah transkripsi untuk dua piano atas Pamungkah, Gambangan, dan Tabuh Telu. 2. Suite for "
     "Violin, Piano and Small Orchestra (1985) - Lou Harrison. 3. Ji Lala Ji (1989) - Slamet A "
     "Sjukur",
     ["sebuah transkripsi untuk dua piano atas Pamungkah, Gambangan, dan Tabuh Telu.",
      "2. Suite for Violin, Piano and Small Orchestra (1985) - Lou Harrison.",
      "3. Ji Lala Ji (1989) - Slamet A Sjukur"]),
    # A letter after a number is a unit or a model, not an initial.
    ("Banyak stratovolcano yang melampaui ketinggian 2500 m. Sering tercipta oleh subduksi "
     "lempeng tektonik.",
     ["Banyak stratovolcano yang melampaui ketinggian 2500 m.",
      "Sering tercipta oleh subduksi lempeng tektonik."]),
    ("agar bekerja lebih cepat di Windows 10 S. Terbukti dalam demonstrasi Windows 10 S hanya "
     "membutuhkan waktu sekitar 15 detik",
     ["agar bekerja lebih cepat di Windows 10 S.",
      "Terbukti dalam demonstrasi Windows 10 S hanya membutuhkan waktu sekitar 15 detik"]),
    # The abbreviation stays inside; the end after the name or number it introduces still splits.
    ("Ia dimakamkan di Gereja St. Giles di Matlock. Jenazahnya kemudian dipindahkan ke Gereja St. "
     "Mary di Cromford.",
     ["Ia dimakamkan di Gereja St. Giles di Matlock.",
      "Jenazahnya kemudian dipindahkan ke Gereja St. Mary di Cromford."]),
    ("mantan kepala MAN Salido sendiri Dra. Yusnam Udin. Dra. Yusnam mengungkapkan sekelumit "
     "sejarah MAN Balaiselasa",
     ["mantan kepala MAN Salido sendiri Dra. Yusnam Udin.",
      "Dra. Yusnam mengungkapkan sekelumit sejarah MAN Balaiselasa"]),
    ("bernama Hj. Wahyu Tjiptaningsih, S.E., M.Si. (Ayu) Putri Tunggal dari pasangan H. Sukanto "
     "dan Hj. Mudjiasri. H. Sukanto adalah Purnawirawan ABRI",
     ["bernama Hj. Wahyu Tjiptaningsih, S.E., M.Si. (Ayu) Putri Tunggal dari pasangan H. Sukanto "
      "dan Hj. Mudjiasri.", "H. Sukanto adalah Purnawirawan ABRI"]),
    ("Gereja ini sesungguhnya bernama Gereja GPIB Immanuel, di Jl. Letjend. Suprapto 32. Kubahnya "
     "besar, dilapisi perunggu",
     ["Gereja ini sesungguhnya bernama Gereja GPIB Immanuel, di Jl. Letjend. Suprapto 32.",
      "Kubahnya besar, dilapisi perunggu"]),
    ("Pasukan yang menaungi wilayah Karesidenan Jakarta bermarkas di Jalan Cilacap No. 5. Sejumlah "
     "perwira ex-PETA yang bergabung",
     ["Pasukan yang menaungi wilayah Karesidenan Jakarta bermarkas di Jalan Cilacap No. 5.",
      "Sejumlah perwira ex-PETA yang bergabung"]),
    ("Ibu kotanya terletak di Pattallassang. Kab. Takalar terdiri dari sembilan kecamatan",
     ["Ibu kotanya terletak di Pattallassang.", "Kab. Takalar terdiri dari sembilan kecamatan"]),
    ('jadi kita putuskan untuk membawanya ke RS Kasih Ibu. Kebetulan pas jalannya macet',
     ["jadi kita putuskan untuk membawanya ke RS Kasih Ibu.", "Kebetulan pas jalannya macet"]),
    ("memimpin rapat kabinet terbatas melalui videoconference dari Missouri, Amerika Serikat, "
     "Senin (12/9). Rapat kabinet jarak jauh ini akan dilakukan setiap hari",
     ["memimpin rapat kabinet terbatas melalui videoconference dari Missouri, Amerika Serikat, "
      "Senin (12/9).", "Rapat kabinet jarak jauh ini akan dilakukan setiap hari"]),
    ("kegiatan karnaval di Bandung akan dimulai pukul 14.00 WIB dengan panjang lintasan hingga 3,8 "
     "kilometer. Rute sendiri akan mulai dari depan Gedung Sate, menuju Jalan Ir. H. Djuanda "
     "(Dago), Jalan Merdeka menuju Taman Vanda.",
     ["kegiatan karnaval di Bandung akan dimulai pukul 14.00 WIB dengan panjang lintasan hingga "
      "3,8 kilometer.", "Rute sendiri akan mulai dari depan Gedung Sate, menuju Jalan Ir. H. "
      "Djuanda (Dago), Jalan Merdeka menuju Taman Vanda."]),
]


def _covers_every_word(text: str) -> bool:
    spans = sentence_spans(text)
    ordered = all(a < b <= a2 for (a, b), (a2, _) in zip(spans, spans[1:] + [(len(text), 0)]))
    return ordered and " ".join(text[a:b] for a, b in spans).split() == text.split()


def _held_whole(text: str, stretch: str) -> bool:
    at = text.index(stretch)
    return any(a <= at and at + len(stretch) <= b for a, b in sentence_spans(text))


def test_abbreviations_in_real_articles_stay_inside_their_sentence():
    assert len(KEPT_TOGETHER) >= 40
    cut = [(stretch, split_sentences(text)) for text, stretch in KEPT_TOGETHER
           if not (_held_whole(text, stretch) and _covers_every_word(text))]
    assert not cut, "\n".join(f"{s!r} cut: {parts}" for s, parts in cut)


def test_real_sentence_ends_next_to_abbreviations_still_split():
    wrong = [(got, want) for text, want in SPLIT
             if (got := split_sentences(text)) != want or not _covers_every_word(text)]
    assert not wrong, "\n".join(f"got {g}\nwant {w}" for g, w in wrong)


def test_a_sentence_opener_after_a_title_or_time_ends_the_sentence():
    """A title or a time abbreviation before a name, a number or a place never ends a sentence;
    before a word that only opens sentences (a pronoun, a conjunction, an article) it does."""
    assert split_sentences("The meeting ended at 10 a.m. Tuesday in Washington.") == [
        "The meeting ended at 10 a.m. Tuesday in Washington."]
    assert split_sentences("The meeting ended at 10 a.m. The minister left.") == [
        "The meeting ended at 10 a.m.", "The minister left."]
    assert split_sentences("Kantornya ada di Jl. Sudirman. Polisi datang pukul 13.30 WIB.") == [
        "Kantornya ada di Jl. Sudirman.", "Polisi datang pukul 13.30 WIB."]
    assert split_sentences("Mereka tinggal di AS. Namun dia pulang ke U.S. Dia lahir di sana.") == [
        "Mereka tinggal di AS.", "Namun dia pulang ke U.S.", "Dia lahir di sana."]
