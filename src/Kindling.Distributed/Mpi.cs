using System.Runtime.InteropServices;

namespace Kindling.Distributed;

/// <summary>An MPI call returned an error code; the message names the call and carries MPI's own error string.</summary>
public sealed class MpiException(string message) : Exception(message);

/// <summary>
/// A thin binding to Open MPI's C API (<c>libmpi.so.40</c>, Open MPI 4.x) over <c>MPI_COMM_WORLD</c>: initialisation,
/// rank and size, in-place sum allreduce, broadcast, barrier, allgather and abort. Nothing else of Kindling needs native
/// code, so this lives in its own assembly and loads the library only when first used.
/// </summary>
/// <remarks>
/// <para>Open MPI's handles are not integers (as in MPICH) but addresses of exported globals:
/// <c>MPI_COMM_WORLD</c> is <c>&amp;ompi_mpi_comm_world</c>, <c>MPI_FLOAT</c> is <c>&amp;ompi_mpi_float</c>,
/// <c>MPI_SUM</c> is <c>&amp;ompi_mpi_op_sum</c> (mpi.h: <c>OMPI_PREDEFINED_GLOBAL</c>); they are resolved here with
/// <see cref="NativeLibrary.GetExport"/>. <c>MPI_IN_PLACE</c> is the constant <c>(void *) 1</c> in Open MPI's mpi.h.</para>
/// <para>The library is opened with <c>RTLD_GLOBAL</c> before .NET resolves it: Open MPI loads its transport plugins
/// with dlopen and those plugins expect libmpi's symbols to be global (the same reason mpi4py opens it that way).</para>
/// <para>Every call's return code is checked. After initialisation the error handler of <c>MPI_COMM_WORLD</c> is set to
/// <c>MPI_ERRORS_RETURN</c>, so a failing call throws <see cref="MpiException"/> instead of killing the process inside
/// MPI without a word.</para>
/// </remarks>
public static unsafe class Mpi
{
    /// <summary><c>MPI_THREAD_SINGLE</c> … <c>MPI_THREAD_MULTIPLE</c> (0…3 in mpi.h).</summary>
    public enum ThreadLevel { Single = 0, Funneled = 1, Serialized = 2, Multiple = 3 }

    private const int Success = 0;          // MPI_SUCCESS
    private const int MaxErrorString = 256; // MPI_MAX_ERROR_STRING
    private static readonly nint InPlace = 1; // MPI_IN_PLACE == (void *) 1 in Open MPI 4.1's mpi.h

    private static readonly Lazy<(nint Handle, string? Error)> Library = new(Load);

    private static nint _commWorld, _float, _double, _int64, _int32, _byte, _opSum, _opMax, _errorsReturn;
    private static delegate* unmanaged<int*, nint*, int, int*, int> _initThread;
    private static delegate* unmanaged<int> _finalize;
    private static delegate* unmanaged<int*, int> _initialized, _finalized;
    private static delegate* unmanaged<nint, int*, int> _commRank, _commSize;
    private static delegate* unmanaged<nint, nint, int, nint, nint, nint, int> _allreduce;
    private static delegate* unmanaged<nint, int, nint, int, nint, int> _bcast;
    private static delegate* unmanaged<nint, int> _barrier;
    private static delegate* unmanaged<nint, int, nint, nint, int, nint, nint, int> _allgather;
    private static delegate* unmanaged<nint, int, int> _abort;
    private static delegate* unmanaged<nint, nint, int> _commSetErrhandler;
    private static delegate* unmanaged<int, byte*, int*, int> _errorString;

    /// <summary>Whether Open MPI's library could be loaded and every symbol Kindling uses was found.</summary>
    public static bool IsAvailable => Library.Value.Error == null;

    /// <summary>Why the library is unavailable (null when it is available), with the fix.</summary>
    public static string? UnavailableReason => Library.Value.Error;

    [DllImport("libc.so.6", EntryPoint = "dlopen")]
    private static extern nint DlOpen([MarshalAs(UnmanagedType.LPStr)] string file, int mode);

    private static (nint, string?) Load()
    {
        string[] names = Environment.GetEnvironmentVariable("KINDLING_MPI_LIBRARY") is { Length: > 0 } custom ? [custom] : ["libmpi.so.40", "libmpi.so"];
        nint handle = 0;
        string tried = string.Join(", ", names);
        foreach (var name in names)
        {
            const int RtldNow = 2, RtldGlobal = 0x100;
            try { if (OperatingSystem.IsLinux()) DlOpen(name, RtldNow | RtldGlobal); } catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
            if (NativeLibrary.TryLoad(name, out handle)) break;
        }
        if (handle == 0)
            return (0, $"Open MPI's library ({tried}) was not found; install Open MPI 4.1 (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev) or point KINDLING_MPI_LIBRARY at libmpi.so.");
        try
        {
            nint F(string s) => NativeLibrary.GetExport(handle, s);
            _initThread = (delegate* unmanaged<int*, nint*, int, int*, int>)F("MPI_Init_thread");
            _finalize = (delegate* unmanaged<int>)F("MPI_Finalize");
            _initialized = (delegate* unmanaged<int*, int>)F("MPI_Initialized");
            _finalized = (delegate* unmanaged<int*, int>)F("MPI_Finalized");
            _commRank = (delegate* unmanaged<nint, int*, int>)F("MPI_Comm_rank");
            _commSize = (delegate* unmanaged<nint, int*, int>)F("MPI_Comm_size");
            _allreduce = (delegate* unmanaged<nint, nint, int, nint, nint, nint, int>)F("MPI_Allreduce");
            _bcast = (delegate* unmanaged<nint, int, nint, int, nint, int>)F("MPI_Bcast");
            _barrier = (delegate* unmanaged<nint, int>)F("MPI_Barrier");
            _allgather = (delegate* unmanaged<nint, int, nint, nint, int, nint, nint, int>)F("MPI_Allgather");
            _abort = (delegate* unmanaged<nint, int, int>)F("MPI_Abort");
            _commSetErrhandler = (delegate* unmanaged<nint, nint, int>)F("MPI_Comm_set_errhandler");
            _errorString = (delegate* unmanaged<int, byte*, int*, int>)F("MPI_Error_string");
            // Predefined handles: the addresses of these globals are the handles (Open MPI's mpi.h, OMPI_PREDEFINED_GLOBAL).
            _commWorld = F("ompi_mpi_comm_world");
            _float = F("ompi_mpi_float");
            _double = F("ompi_mpi_double");
            _int64 = F("ompi_mpi_int64_t");
            _int32 = F("ompi_mpi_int");
            _byte = F("ompi_mpi_byte");
            _opSum = F("ompi_mpi_op_sum");
            _opMax = F("ompi_mpi_op_max");
            _errorsReturn = F("ompi_mpi_errors_return");
        }
        catch (EntryPointNotFoundException e)
        {
            return (0, $"the MPI library found is not Open MPI 4.x ({e.Message}); Kindling.Distributed binds Open MPI's ABI (libmpi.so.40).");
        }
        return (handle, null);
    }

    private static void Require()
    {
        if (Library.Value.Error is { } e) throw new MpiException(e);
    }

    private static void Check(int rc, string call)
    {
        if (rc == Success) return;
        var buf = stackalloc byte[MaxErrorString + 1];
        int len = 0;
        string text = _errorString != null && _errorString(rc, buf, &len) == Success ? Marshal.PtrToStringAnsi((nint)buf, len) : "unknown error";
        throw new MpiException($"{call} failed with MPI error {rc}: {text}.");
    }

    /// <summary>Whether <c>MPI_Init(_thread)</c> has been called in this process.</summary>
    public static bool Initialized { get { Require(); int f; Check(_initialized(&f), "MPI_Initialized"); return f != 0; } }

    /// <summary>Whether <c>MPI_Finalize</c> has been called in this process.</summary>
    public static bool Finalized { get { Require(); int f; Check(_finalized(&f), "MPI_Finalized"); return f != 0; } }

    /// <summary>
    /// <c>MPI_Init_thread(NULL, NULL, required, &amp;provided)</c>, then <c>MPI_ERRORS_RETURN</c> on <c>MPI_COMM_WORLD</c>.
    /// Returns the thread level the library provides.
    /// </summary>
    public static ThreadLevel InitThread(ThreadLevel required = ThreadLevel.Serialized)
    {
        Require();
        int provided;
        Check(_initThread(null, null, (int)required, &provided), "MPI_Init_thread");
        Check(_commSetErrhandler(_commWorld, _errorsReturn), "MPI_Comm_set_errhandler");
        return (ThreadLevel)provided;
    }

    /// <summary><c>MPI_Finalize</c>: every rank must call it before exiting normally.</summary>
    public static void FinalizeMpi() { Require(); Check(_finalize(), "MPI_Finalize"); }

    /// <summary>This process's rank in <c>MPI_COMM_WORLD</c> (0 … size − 1).</summary>
    public static int CommRank() { Require(); int r; Check(_commRank(_commWorld, &r), "MPI_Comm_rank"); return r; }

    /// <summary>The number of processes in <c>MPI_COMM_WORLD</c>.</summary>
    public static int CommSize() { Require(); int s; Check(_commSize(_commWorld, &s), "MPI_Comm_size"); return s; }

    /// <summary><c>MPI_Barrier(MPI_COMM_WORLD)</c>.</summary>
    public static void Barrier() { Require(); Check(_barrier(_commWorld), "MPI_Barrier"); }

    /// <summary>
    /// <c>MPI_Abort(MPI_COMM_WORLD, code)</c>: ends every process of the job (mpirun reports the code). Does not return
    /// when it works; the caller should exit anyway in case it does.
    /// </summary>
    public static void Abort(int code) { Require(); _abort(_commWorld, code); }

    /// <summary>In-place sum over all ranks: afterwards every rank holds Σ_r buffer_r.</summary>
    public static void AllReduceSum<T>(Span<T> buffer) where T : unmanaged => AllReduce(buffer, _opSum, "MPI_Allreduce(MPI_SUM)");

    /// <summary>In-place element-wise maximum over all ranks.</summary>
    public static void AllReduceMax<T>(Span<T> buffer) where T : unmanaged => AllReduce(buffer, _opMax, "MPI_Allreduce(MPI_MAX)");

    private static void AllReduce<T>(Span<T> buffer, nint op, string call) where T : unmanaged
    {
        Require();
        if (buffer.IsEmpty) return;
        var type = TypeOf<T>(call);
        fixed (T* p = buffer) Check(_allreduce(InPlace, (nint)p, buffer.Length, type, op, _commWorld), call);
    }

    /// <summary><c>MPI_Bcast</c>: every rank's <paramref name="buffer"/> receives <paramref name="root"/>'s contents.</summary>
    public static void Broadcast<T>(Span<T> buffer, int root = 0) where T : unmanaged
    {
        Require();
        if (buffer.IsEmpty) return;
        var type = TypeOf<T>("MPI_Bcast");
        fixed (T* p = buffer) Check(_bcast((nint)p, buffer.Length, type, root, _commWorld), "MPI_Bcast");
    }

    /// <summary>
    /// <c>MPI_Allgather</c>: every rank contributes <paramref name="send"/> (the same length on every rank) and receives
    /// all contributions in rank order in <paramref name="receive"/> (length size × send length).
    /// </summary>
    public static void AllGather<T>(ReadOnlySpan<T> send, Span<T> receive) where T : unmanaged
    {
        Require();
        var type = TypeOf<T>("MPI_Allgather");
        if ((long)send.Length * CommSize() != receive.Length)
            throw new ArgumentException($"MPI_Allgather: the receive buffer needs {send.Length} × {CommSize()} ranks = {(long)send.Length * CommSize()} elements, got {receive.Length}.", nameof(receive));
        fixed (T* s = send) fixed (T* r = receive)
            Check(_allgather((nint)s, send.Length, type, (nint)r, send.Length, type, _commWorld), "MPI_Allgather");
    }

    private static nint TypeOf<T>(string call) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return _float;
        if (typeof(T) == typeof(double)) return _double;
        if (typeof(T) == typeof(long)) return _int64;
        if (typeof(T) == typeof(int)) return _int32;
        if (typeof(T) == typeof(byte)) return _byte;
        throw new NotSupportedException($"{call}: element type {typeof(T).Name} is not bound; use float, double, long, int or byte.");
    }
}
