namespace Kindling.Cli;

/// <summary>A problem the user can fix (bad data, a loss that does not fit): one line on stderr, exit code 1, no stack trace.</summary>
public sealed class UserError(string message) : Exception(message);
