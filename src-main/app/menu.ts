// The application menu: the platform's usual roles plus links that open in the user's browser.
import { Menu, shell, type MenuItemConstructorOptions } from 'electron';

const PAPER_URL = 'https://doi.org/10.1016/j.neunet.2022.02.015';

export function buildMenu(): Menu {
  const isMac = process.platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    { label: 'File', submenu: [isMac ? { role: 'close' } : { role: 'quit' }] },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        { role: 'reload' },
        { role: 'toggleDevTools' },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: [{ label: 'The paper (Chen et al., Neural Networks 2022)', click: () => void shell.openExternal(PAPER_URL) }],
    },
  ];
  return Menu.buildFromTemplate(template);
}
