using System.Diagnostics;

namespace Kindling.Tests;

/// <summary>
/// Issue 23: ranks of one mpirun job that were started with different options or data are refused at start, naming
/// what differs (not trained to exit 0, not a stack trace); an error met by one rank only is printed with its rank.
/// Each rank gets its own command line through a shell wrapper that reads OMPI_COMM_WORLD_RANK.
/// </summary>
public class DistributedAgreementTests
{
    private static string Cli()
    {
        var config = AppContext.BaseDirectory.Contains("/Release/") ? "Release" : "Debug";
        return Path.Combine(Repo.Root, "src", "Kindling.Cli", "bin", config, "net10.0", "Kindling.Cli.dll");
    }

    /// <summary>Runs two ranks: rank 0 with <paramref name="rank0"/>, rank 1 with <paramref name="rank1"/>.</summary>
    private static (int Code, string Out, string Err) RunRanks(string[] rank0, string[] rank1)
    {
        static string Quote(IEnumerable<string> a) => string.Join(' ', a.Select(x => "'" + x.Replace("'", "'\\''") + "'"));
        var script = $"if [ \"$OMPI_COMM_WORLD_RANK\" = 1 ]; then exec dotnet '{Cli()}' {Quote(rank1)}; else exec dotnet '{Cli()}' {Quote(rank0)}; fi";
        var launcher = new[] { "/usr/bin/mpirun", "/usr/local/bin/mpirun" }.First(File.Exists);
        var psi = new ProcessStartInfo(launcher) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in new[] { "--allow-run-as-root", "--oversubscribe", "-np", "2", "sh", "-c", script }) psi.ArgumentList.Add(a);
        foreach (var k in psi.Environment.Keys.Where(k => k.StartsWith("OMPI_", StringComparison.Ordinal) || k.StartsWith("PMIX_", StringComparison.Ordinal)).ToList()) psi.Environment.Remove(k);
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(300_000)) { p.Kill(true); throw new TimeoutException("mpirun did not finish in 300 s"); }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private static string Out() => Path.Combine(Path.GetTempPath(), "kindling-dist-agree", Guid.NewGuid().ToString("N")[..8]);

    private static string[] ErrorLines(string err) => err.Split('\n').Where(l => l.Contains("error: ", StringComparison.Ordinal)).ToArray();

    [MpiFact]
    public void RanksWithDifferentModelOptionsAreRefusedNamingTheOption()
    {
        var o = Out();
        var r = RunRanks(["train", "--epochs", "1", "--hidden", "8", "--out", o], ["train", "--epochs", "1", "--hidden", "16", "--out", o]);
        Assert.NotEqual(0, r.Code);
        Assert.DoesNotContain("   at ", r.Err);
        var lines = ErrorLines(r.Err);
        Assert.Single(lines);
        Assert.Contains("rank 1's --hidden", lines[0]);
        Assert.Contains("rank 0 has --hidden [8]", lines[0]);
        Assert.False(File.Exists(Path.Combine(o, "model.safetensors")));
        var seed = RunRanks(["train", "--epochs", "1", "--seed", "1", "--lr", "0.01", "--out", Out()], ["train", "--epochs", "1", "--seed", "2", "--lr", "0.02", "--out", Out()]);
        Assert.Contains("rank 1's --lr, rank 1's --seed", Assert.Single(ErrorLines(seed.Err)));
    }

    [MpiFact]
    public void AnErrorMetByOneRankOnlyIsPrintedWithItsRank()
    {
        var o = Out();
        var r = RunRanks(["train", "--epochs", "1", "--out", o], ["train", "--epochs", "1", "--data", "/nonexistent/data.csv", "--out", o]);
        Assert.NotEqual(0, r.Code);
        Assert.Contains("rank 1/2: error: --data '/nonexistent/data.csv'", r.Err);
        Assert.DoesNotContain("   at ", r.Err);
        // The same error on every rank is said once, by rank 0.
        var same = RunRanks(["train", "--epochs", "1", "--data", "/nonexistent/x.csv", "--out", o], ["train", "--epochs", "1", "--data", "/nonexistent/x.csv", "--out", o]);
        var line = Assert.Single(ErrorLines(same.Err));
        Assert.Contains("error: --data '/nonexistent/x.csv'", line);
        Assert.DoesNotContain("rank", line);
    }
}
