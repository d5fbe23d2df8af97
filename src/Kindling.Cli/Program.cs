using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Kindling.Cli;
using Kindling.Distributed;

// kindling: train, compare, evaluate, predict and export with Kindling from the command line.
// Exit codes: 0 success, 1 user error (one line on stderr), 2 usage error, 130 interrupted (checkpoint saved).
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
// Under Open MPI's mpirun (it sets OMPI_COMM_WORLD_SIZE) every rank joins the job; only rank 0 prints.
if (Distributed.UnderMpirun)
{
    try { Distributed.Init(); }
    catch (MpiException e) { Console.Error.WriteLine("error: " + e.Message); return 1; }
    if (!Distributed.IsMain) Console.SetOut(TextWriter.Null);
}
Console.CancelKeyPress += (_, e) =>
{
    if (Trainer.StopRequested) return; // a second Ctrl+C ends the process at once
    e.Cancel = true;
    Trainer.StopRequested = true;
    if (Distributed.IsMain) Console.Error.WriteLine("stopping after the current step (Ctrl+C again to abort)…");
};
// mpirun passes Ctrl+C on to the ranks as SIGTERM: treat it like Ctrl+C, so every rank stops at the same step and
// rank 0 saves a checkpoint (the ranks agree on stopping through the per-step allreduce).
using var sigterm = Distributed.UnderMpirun ? PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx =>
{
    if (Trainer.StopRequested) return;
    ctx.Cancel = true;
    Trainer.StopRequested = true;
    if (Distributed.IsMain) Console.Error.WriteLine("stopping all processes after the current step…");
}) : null;

var root = new RootCommand("kindling — train and compare neural networks with Kindling's PyTorch-exact losses.");
var train = Cli.TrainCommand();
root.Subcommands.Add(train);
root.Subcommands.Add(Cli.CompareCommand());
root.Subcommands.Add(Cli.EvalCommand());
root.Subcommands.Add(Cli.PredictCommand());
root.Subcommands.Add(ExportCommand.Create());
root.Subcommands.Add(GenerateCommand.Create());

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var e in parsed.Errors) Console.Error.WriteLine("error: " + e.Message);
    Console.Error.WriteLine("Run 'kindling --help' (or 'kindling train --help') for usage.");
    return 2;
}
try
{
    // Our own handler below turns user errors into one line; programming errors keep their stack trace.
    int code = parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
    Distributed.Shutdown();
    return code;
}
catch (UserError e)
{
    // Under mpirun every rank usually meets the same error (same data, same options): rank 0 says it once.
    if (Distributed.IsMain) Console.Error.WriteLine("error: " + e.Message);
    return 1;
}
// Failures of the environment or of input files that no code path above anticipated (a disk that fills while a report is
// written, a file that vanishes mid-read, a malformed file a reader rejects) are still the user's to fix: one line, exit 1.
catch (Exception e) when (e is IOException or UnauthorizedAccessException or Kindling.Data.DataException or Kindling.IO.SafetensorsException)
{
    Console.Error.WriteLine("error: " + e.Message.ReplaceLineEndings(" "));
    return 1;
}
finally
{
    RunFolder.ReleaseLocks();
}
