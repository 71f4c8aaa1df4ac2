"""TensorBoard's own writer and loader, for examples/bench_sources.

  write FILE_DIR N   writes N `train/grad_norm` scalars with TensorBoard's EventFileWriter
                     (tensorboard.summary.writer), one event per step, as a training loop does;
  load FILE          reads the file back with TensorBoard's EventFileLoader and with its
                     EventAccumulator, printing the seconds each took and the scalars found.
"""
import sys
import time


def write(directory, n):
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    w = EventFileWriter(directory, max_queue_size=10_000, flush_secs=3600)
    x = 0x2545F4914F6CDD1D
    mask = (1 << 64) - 1
    for step in range(1, n + 1):
        x ^= (x << 13) & mask
        x ^= x >> 7
        x ^= (x << 17) & mask
        v = 0.4 + (x % 1000) / 3000.0
        summary = summary_pb2.Summary(
            value=[summary_pb2.Summary.Value(tag="train/grad_norm", simple_value=v)]
        )
        w.add_event(event_pb2.Event(wall_time=1.7e9 + step, step=step, summary=summary))
    w.close()
    print(w.get_logdir())


def load(path):
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    t = time.perf_counter()
    n = 0
    for ev in EventFileLoader(path).Load():
        for v in ev.summary.value:
            if v.tag == "train/grad_norm":
                n += 1
    loader = time.perf_counter() - t
    t = time.perf_counter()
    acc = event_accumulator.EventAccumulator(
        path, size_guidance={event_accumulator.SCALARS: 0}
    )
    acc.Reload()
    m = len(acc.Scalars("train/grad_norm"))
    accumulator = time.perf_counter() - t
    print(f"loader {loader:.3f} {n}")
    print(f"accumulator {accumulator:.3f} {m}")


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2], int(sys.argv[3]))
    else:
        load(sys.argv[2])
