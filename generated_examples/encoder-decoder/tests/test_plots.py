from encoder_decoder.plots import learning_curves

PNG = b"\x89PNG"


def test_learning_curves_draw_a_run_history(tmp_path):
    history = tmp_path / "history.csv"
    history.write_text(
        "epoch,accuracy,loss,val_accuracy,val_loss\n"
        "0,0.5,1.2,0.55,1.1\n"
        "1,0.7,0.8,0.68,0.9\n"
    )
    path = learning_curves(history, tmp_path / "curves.png")
    assert path.read_bytes().startswith(PNG)
