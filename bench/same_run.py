"""What the bench scripts share: time kiln and several peer configurations in alternating
rounds of one run, and report each at its best round with the ratio.

Each side is a command whose last output token is its time in ms. On a shared machine a
round is only ever slowed down, so each side is reported at its best round, and the
ratio PyTorch / kiln (> 1: kiln faster) is taken between the bests.
"""
import subprocess


def run_ms(command):
    """Runs `command` and returns the last token of its output, a time in ms."""
    return float(subprocess.run(command, check=True, capture_output=True, text=True).stdout.split()[-1])


def compare(kiln_command, peer_commands, rounds, gflop, unit="ms"):
    """Rounds of kiln then each peer (a dict: name -> command); prints a line per side
    (best time, GFLOP/s for `gflop` GFLOP per call, every round) and the ratio against
    the fastest peer."""
    kiln, peers = [], {name: [] for name in peer_commands}
    for _ in range(rounds):
        kiln.append(run_ms(kiln_command))
        for name, command in peer_commands.items():
            peers[name].append(run_ms(command))

    def line(name, times):
        best = min(times)
        return (f"  {name:34s} {best:9.3f} {unit}  ({gflop / best * 1e3:6.1f} GFLOP/s)   "
                f"rounds: {', '.join(f'{t:.3f}' for t in times)}")

    for name, times in peers.items():
        print(line(f"PyTorch, {name}", times))
    print(line("kiln", kiln))
    peer = min(peers, key=lambda name: min(peers[name]))
    print(f"  ratio (PyTorch {peer} / kiln): {min(peers[peer]) / min(kiln):.2f}x")
