package io.syslet.pool;

import io.syslet.abi.SetupParams;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * README, "Using it as a Maven dependency": without {@code --add-opens java.base/jdk.internal.misc=ALL-UNNAMED}
 * "syslet fails at once with an IllegalStateException that names the flag, not with a bare IllegalAccessError".
 * A user's first call is {@code SysletContext.setup}, as in the README's example: it is run here in a child JVM
 * started without the flag.
 */
class MissingJvmFlagTest
{
    /** What the child JVM runs: the README's first line, then the class and message of what it threw. */
    public static final class SetupWithoutFlag
    {
        public static void main(final String[] args)
        {
            try (SysletContext ctx = SysletContext.setup(new SetupParams()))
            {
                System.out.println("no failure");
            }
            catch (final Throwable t)
            {
                System.out.println(t.getClass().getName() + ": " + t.getMessage());
            }
        }
    }

    @Test
    void setupWithoutTheFlagThrowsIllegalStateExceptionNamingIt() throws Exception
    {
        final String printed = SysletTestSupport.runInChildJvm(SetupWithoutFlag.class, "-XX:TieredStopAtLevel=1").strip();
        assertTrue(printed.startsWith(IllegalStateException.class.getName() + ": "), printed);
        assertTrue(printed.contains("--add-opens java.base/jdk.internal.misc=ALL-UNNAMED"), printed);
    }
}
