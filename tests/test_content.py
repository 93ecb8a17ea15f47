from library.content import citation, date_zh, quote_with_citation


def test_dates_read_as_chinese():
    assert date_zh("2005-08-15") == "2005年8月15日"
    assert date_zh("2019-03") == "2019年3月"
    assert date_zh("2021") == "2021年"
    assert date_zh(None) == ""


def test_citation_house_style():
    assert (
        citation("在浙江安吉余村考察时的讲话", "2005-08-15")
        == "在浙江安吉余村考察时的讲话（2005年8月15日）"
    )
    assert citation("《论语·为政》", None) == "《论语·为政》"
    assert citation(None, "2019-03-18") == "2019年3月18日"
    assert citation("2019年3月18日在学校思政课教师座谈会上的讲话", "2019-03-18").count("2019") == 1


def test_copied_quote_carries_its_citation():
    assert (
        quote_with_citation("绿水青山就是金山银山。", "在浙江安吉余村考察时的讲话", "2005-08-15")
        == "“绿水青山就是金山银山。” ——在浙江安吉余村考察时的讲话（2005年8月15日）"
    )
    assert (
        quote_with_citation("“民惟邦本，本固邦宁。”", "《尚书·五子之歌》", None)
        == "“民惟邦本，本固邦宁。” ——《尚书·五子之歌》"
    )


def test_notes_join_without_double_punctuation():
    from library.content import join_notes

    assert (
        join_notes(["第 2 页没有文字层。", "", "有 1 条金句没有找到出处，请核对后补充。"])
        == "第 2 页没有文字层；有 1 条金句没有找到出处，请核对后补充。"
    )
    assert join_notes([]) == "" and join_notes(["只有一句。"]) == "只有一句。"
