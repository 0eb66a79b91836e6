// x11-swing-app.java — a plain Java Swing program (X11 only: AWT has no
// Wayland backend in Java 17) for sandbox-x11-apps.sh, run inside a qube by
// Java's source launcher (`java x11-swing-app.java MODE`: no javac needed).
//   menu    a main window "swing-main" whose File menu (16 items, taller
//           than the window, so Swing shows it in a window of its own,
//           override-redirect in X) opens after a moment, as a click would
//   dialog  the same main window and, after a moment, a non-modal dialog
//           "swing-dialog" owned by it (WM_TRANSIENT_FOR in X)
// It prints "opened MODE" once it did. Owns nothing; never decides a result.
import java.awt.BorderLayout;
import javax.swing.JDialog;
import javax.swing.JFrame;
import javax.swing.JLabel;
import javax.swing.JMenu;
import javax.swing.JMenuBar;
import javax.swing.JMenuItem;
import javax.swing.SwingConstants;
import javax.swing.SwingUtilities;
import javax.swing.Timer;

public class SwingApp {
    public static void main(String[] args) {
        String mode = args.length > 0 ? args[0] : "menu";
        SwingUtilities.invokeLater(() -> {
            JFrame main = new JFrame("swing-main");
            main.setDefaultCloseOperation(JFrame.EXIT_ON_CLOSE);
            JMenuBar bar = new JMenuBar();
            JMenu file = new JMenu("File");
            for (int i = 1; i <= 16; i++)
                file.add(new JMenuItem("Item " + i));
            bar.add(file);
            main.setJMenuBar(bar);
            main.add(new JLabel("Swing through Xwayland", SwingConstants.CENTER), BorderLayout.CENTER);
            main.setSize(360, 200);
            main.setLocation(0, 0);
            main.setVisible(true);
            Timer later = new Timer(1500, e -> {
                if (mode.equals("menu")) {
                    file.doClick(0);
                } else {
                    JDialog d = new JDialog(main, "swing-dialog", false);
                    d.add(new JLabel("a dialog", SwingConstants.CENTER));
                    d.setSize(240, 120);
                    d.setLocationRelativeTo(main);
                    d.setVisible(true);
                }
                System.out.println("opened " + mode);
                System.out.flush();
            });
            later.setRepeats(false);
            later.start();
        });
    }
}
