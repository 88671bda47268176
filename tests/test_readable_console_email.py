from django.core.mail import EmailMessage

from tenant_apps.mail.backends import ReadableConsoleBackend


def test_it_prints_long_links_on_one_line(capsys):
    link = "http://sunrise.localhost:8000/welcome/" + "x" * 120 + "/"
    message = EmailMessage(subject="Hello", body=f"Open this:\n{link}\n", to=["a@client.test"])
    assert ReadableConsoleBackend().send_messages([message]) == 1
    printed = capsys.readouterr().out
    assert link in printed.splitlines()
    assert "To: a@client.test" in printed and "Subject: Hello" in printed
