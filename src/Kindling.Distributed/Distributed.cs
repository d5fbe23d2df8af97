using System.Diagnostics;
using System.Globalization;

namespace Kindling.Distributed;

/// <summary>
/// The process group of a data-parallel job (PyTorch's <c>torch.distributed</c> with one default group). Start the job
/// with Open MPI's launcher, <c>mpirun -np N program …</c> (<c>--hostfile</c> for several machines), and call
/// <see cref="Init"/> once at start-up. Without mpirun the program is a single process of rank 0 in a world of 1 and
/// MPI is never loaded, so the same program runs unchanged on a machine without Open MPI.
/// </summary>
/// <remarks>
/// A failed rank must not leave the others waiting forever. Two mechanisms cover it: a rank that dies or exits without
/// finalising is detected by mpirun, which then ends every other rank (Open MPI's default); and a rank that is alive but
/// stops taking part (stuck, or following another code path) is caught by a watchdog thread — any collective that waits
/// longer than <see cref="Timeout"/> prints which collective timed out on which rank and calls <c>MPI_Abort</c>, which
/// ends the whole job with a non-zero exit code.
/// </remarks>
public static class Distributed
{
    private static readonly object Gate = new();
    private static bool _initialized, _usesMpi;
    private static long _collectiveStart; // Stopwatch ticks when the current collective began; 0 when none is running
    private static string _collectiveName = "";

    /// <summary>True when this process was started by Open MPI's mpirun (it sets <c>OMPI_COMM_WORLD_SIZE</c>).</summary>
    public static bool UnderMpirun => Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is { Length: > 0 };

    /// <summary>The world size mpirun announced in <c>OMPI_COMM_WORLD_SIZE</c> (1 when not under mpirun), readable before <see cref="Init"/>.</summary>
    public static int LaunchedWorldSize =>
        int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE"), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : 1;

    /// <summary>Whether <see cref="Init"/> has run.</summary>
    public static bool IsInitialized => _initialized;

    /// <summary>This process's rank: 0 … <see cref="WorldSize"/> − 1 (0 in a single-process run).</summary>
    public static int Rank { get; private set; }

    /// <summary>The number of processes in the job (1 in a single-process run).</summary>
    public static int WorldSize { get; private set; } = 1;

    /// <summary>True on rank 0, the rank that prints and writes files.</summary>
    public static bool IsMain => Rank == 0;

    /// <summary>True when the job has more than one process (collectives then go through MPI).</summary>
    public static bool IsDistributed => WorldSize > 1;

    /// <summary>
    /// How long a collective may wait for the other ranks before the job is aborted. Default 5 minutes, or
    /// <c>KINDLING_DIST_TIMEOUT</c> seconds; set it above the longest stretch one rank can compute alone between
    /// collectives (an evaluation pass on rank 0 while the others wait, for example).
    /// </summary>
    public static TimeSpan Timeout { get; set; } = ReadTimeout();

    /// <summary>Total time this process has spent inside collectives since <see cref="Init"/> (waiting included).</summary>
    public static TimeSpan CollectiveTime => TimeSpan.FromSeconds(_collectiveTicks / (double)Stopwatch.Frequency);
    private static long _collectiveTicks;

    private static TimeSpan ReadTimeout() =>
        double.TryParse(Environment.GetEnvironmentVariable("KINDLING_DIST_TIMEOUT"), NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s > 0
            ? TimeSpan.FromSeconds(s) : TimeSpan.FromMinutes(5);

    /// <summary>
    /// Joins the job: under mpirun initialises MPI (<c>MPI_Init_thread</c>), reads rank and size and starts the
    /// watchdog; otherwise sets rank 0 of 1 without loading MPI. Idempotent. Throws <see cref="MpiException"/> with the
    /// fix when the process runs under mpirun but Open MPI's library cannot be loaded.
    /// </summary>
    public static void Init()
    {
        lock (Gate)
        {
            if (_initialized) return;
            if (UnderMpirun)
            {
                if (!Mpi.IsAvailable) throw new MpiException("running under mpirun, but " + Mpi.UnavailableReason);
                if (!Mpi.Initialized) Mpi.InitThread(Mpi.ThreadLevel.Serialized);
                Rank = Mpi.CommRank();
                WorldSize = Mpi.CommSize();
                _usesMpi = true;
                var watchdog = new Thread(Watch) { IsBackground = true, Name = "kindling-distributed-watchdog" };
                watchdog.Start();
            }
            _initialized = true;
        }
    }

    /// <summary>Leaves the job (<c>MPI_Finalize</c>); call once at the end of a successful run. No-op without MPI.</summary>
    public static void Shutdown()
    {
        lock (Gate)
        {
            if (_usesMpi && !Mpi.Finalized) Mpi.FinalizeMpi();
            _usesMpi = false;
        }
    }

    /// <summary>
    /// Ends every process of the job after printing <paramref name="message"/> (prefixed with this rank) on stderr:
    /// <c>MPI_Abort</c> under MPI, a plain exit otherwise. Use it when one rank fails in a way the others cannot see.
    /// </summary>
    public static void Abort(string message, int exitCode = 1)
    {
        Console.Error.WriteLine(IsDistributed ? $"rank {Rank}/{WorldSize}: {message}" : message);
        Console.Error.Flush();
        if (_usesMpi) Mpi.Abort(exitCode);
        Environment.Exit(exitCode);
    }

    private static void Watch()
    {
        while (true)
        {
            Thread.Sleep(TimeSpan.FromMilliseconds(Math.Clamp(Timeout.TotalMilliseconds / 10, 50, 1000)));
            long start = Volatile.Read(ref _collectiveStart);
            if (start == 0) continue;
            double waited = (Stopwatch.GetTimestamp() - start) / (double)Stopwatch.Frequency;
            if (waited > Timeout.TotalSeconds && Volatile.Read(ref _collectiveStart) == start)
                Abort($"{_collectiveName} waited {waited:F0}s for the other ranks (timeout {Timeout.TotalSeconds:F0}s, KINDLING_DIST_TIMEOUT): " +
                      "another rank has failed, hangs, or left the training loop; aborting every rank.", 1);
        }
    }

    private static void Enter(string name) { _collectiveName = name; Volatile.Write(ref _collectiveStart, Stopwatch.GetTimestamp()); }

    private static void Leave()
    {
        long start = Volatile.Read(ref _collectiveStart);
        Volatile.Write(ref _collectiveStart, 0);
        _collectiveTicks += Stopwatch.GetTimestamp() - start;
    }

    private static void RequireInit(string op)
    {
        if (!_initialized) throw new InvalidOperationException($"Distributed.{op}: call Distributed.Init() first.");
    }

    /// <summary>In-place sum over ranks (float32, float64 or int64); a no-op in a single-process run.</summary>
    public static void AllReduceSum<T>(Span<T> buffer) where T : unmanaged
    {
        RequireInit(nameof(AllReduceSum));
        if (!IsDistributed) return;
        Enter("allreduce");
        try { Mpi.AllReduceSum(buffer); } finally { Leave(); }
    }

    /// <summary>In-place element-wise maximum over ranks; a no-op in a single-process run.</summary>
    public static void AllReduceMax<T>(Span<T> buffer) where T : unmanaged
    {
        RequireInit(nameof(AllReduceMax));
        if (!IsDistributed) return;
        Enter("allreduce(max)");
        try { Mpi.AllReduceMax(buffer); } finally { Leave(); }
    }

    /// <summary>Every rank receives <paramref name="root"/>'s <paramref name="buffer"/>; a no-op in a single-process run.</summary>
    public static void Broadcast<T>(Span<T> buffer, int root = 0) where T : unmanaged
    {
        RequireInit(nameof(Broadcast));
        if (!IsDistributed) return;
        Enter("broadcast");
        try { Mpi.Broadcast(buffer, root); } finally { Leave(); }
    }

    /// <summary>Waits until every rank has arrived.</summary>
    public static void Barrier()
    {
        RequireInit(nameof(Barrier));
        if (!IsDistributed) return;
        Enter("barrier");
        try { Mpi.Barrier(); } finally { Leave(); }
    }

    /// <summary>Every rank's <paramref name="send"/>, in rank order (length WorldSize × send length).</summary>
    public static T[] AllGather<T>(ReadOnlySpan<T> send) where T : unmanaged
    {
        RequireInit(nameof(AllGather));
        var result = new T[send.Length * WorldSize];
        if (!IsDistributed) { send.CopyTo(result); return result; }
        Enter("allgather");
        try { Mpi.AllGather(send, result); } finally { Leave(); }
        return result;
    }
}
