using System.Diagnostics;

namespace Kindling.Tests;

/// <summary>Starts programs under Open MPI's mpirun for the distributed tests, and says why when it cannot.</summary>
internal static class MpiRun
{
    private static readonly Lazy<string?> Launcher = new(() =>
        new[] { "/usr/bin/mpirun", "/usr/bin/mpirun.openmpi", "/usr/bin/mpiexec.openmpi", "/usr/local/bin/mpirun" }.FirstOrDefault(File.Exists));

    /// <summary>Null when mpirun and libmpi.so.40 are both present, else the reason the distributed tests are skipped.</summary>
    public static string? Missing =>
        Launcher.Value == null ? "needs Open MPI's mpirun (apt-get install openmpi-bin libopenmpi-dev; .ci/run installs it)"
        : !Kindling.Distributed.Mpi.IsAvailable ? "needs Open MPI's libmpi.so.40: " + Kindling.Distributed.Mpi.UnavailableReason
        : null;

    public sealed record Result(int Code, string Out, string Err, TimeSpan Elapsed);

    /// <summary>Runs <c>mpirun --allow-run-as-root --oversubscribe -np N dotnet DLL ARGS</c> (or plain <c>dotnet DLL ARGS</c> when <paramref name="np"/> is 0).</summary>
    public static Result Run(int np, string dll, IEnumerable<string> args, Dictionary<string, string>? env = null, int timeoutSeconds = 300)
    {
        var psi = new ProcessStartInfo(np > 0 ? Launcher.Value! : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        if (np > 0)
            foreach (var a in new[] { "--allow-run-as-root", "--oversubscribe", "-np", np.ToString(System.Globalization.CultureInfo.InvariantCulture), "dotnet" }) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        // The tests may themselves run under a launcher's environment; a child mpirun must not think it is a rank.
        foreach (var k in psi.Environment.Keys.Where(k => k.StartsWith("OMPI_", StringComparison.Ordinal) || k.StartsWith("PMIX_", StringComparison.Ordinal)).ToList()) psi.Environment.Remove(k);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        if (env != null) foreach (var (k, v) in env) psi.Environment[k] = v;
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000)) { p.Kill(true); throw new TimeoutException($"did not finish in {timeoutSeconds}s: {string.Join(' ', psi.ArgumentList)}"); }
        return new Result(p.ExitCode, stdout.Result, stderr.Result, sw.Elapsed);
    }
}

/// <summary>A fact that runs only where Open MPI is installed; elsewhere it is reported as skipped with the reason.</summary>
public sealed class MpiFactAttribute : FactAttribute
{
    public MpiFactAttribute() { if (MpiRun.Missing is { } why) Skip = why; }
}

/// <summary>A theory that runs only where Open MPI is installed; elsewhere it is reported as skipped with the reason.</summary>
public sealed class MpiTheoryAttribute : TheoryAttribute
{
    public MpiTheoryAttribute() { if (MpiRun.Missing is { } why) Skip = why; }
}
